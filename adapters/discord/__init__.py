"""The Discord adapter: discord.py's client between Discord and the engine (`mlquiz discord`)."""
