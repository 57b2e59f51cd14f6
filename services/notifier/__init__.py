"""The notifier service: Discord messages from the notification queue, never on the order path."""
