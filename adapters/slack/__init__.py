"""The Slack adapter: Bolt AsyncApp, Block Kit rendering, Socket Mode or HTTP."""
