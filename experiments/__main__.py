from experiments.app import main

main()
