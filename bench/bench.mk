# bench: see the files listed here
