from vlcourse.icl.train import main

main()
