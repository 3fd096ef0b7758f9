from tamarind.cli import main

main()
