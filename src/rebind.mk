# src: see the files listed here
