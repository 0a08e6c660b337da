"""Platform adapters: each turns platform events into engine calls and renders replies."""
