"""Privacy duties: the notice people accept, their data export, closing and erasing accounts, retention."""
