from pioreactor.kernel.cli import main

main()
