"""Privacy and the data lifecycle: closing and erasing accounts, data exports."""
