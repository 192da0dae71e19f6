"""The App Home: what a person's tab shows (`render`) and publishing it (`service`)."""
