from ezscale.cli import main

main()
