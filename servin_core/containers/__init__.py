"""Containers: their configuration, states, store and lifecycle."""
