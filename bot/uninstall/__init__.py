"""An uninstalled workspace's data: its tokens forgotten at once, the rest deleted after a grace period."""
