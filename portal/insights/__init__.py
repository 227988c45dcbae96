"""Industry insights: articles by mentors and admins, their revisions, saves, views and search."""
