# diag: see the files listed here
