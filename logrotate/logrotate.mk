# logrotate: see the files listed here
