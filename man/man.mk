# man: see the files listed here
