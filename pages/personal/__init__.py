"""An agent's personal page: their status, duty and calls, by a link with no login."""
