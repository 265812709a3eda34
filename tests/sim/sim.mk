# tests/sim: see the files listed here
