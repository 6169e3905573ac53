import sys

from vlcourse.serve.run import main

sys.exit(main())
