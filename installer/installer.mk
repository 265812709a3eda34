# installer: see the files listed here
