"""The pages across apps: the role matrix of every page."""
