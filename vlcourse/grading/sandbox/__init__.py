"""The sandbox: the OS boundary around student code, the warm zygote and fork server, the runner and its protocol, limits and timing."""
