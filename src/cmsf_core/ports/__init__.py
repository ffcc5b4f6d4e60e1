"""Ports: the small protocols the shell talks to (the CRM side and the email-platform side)."""
