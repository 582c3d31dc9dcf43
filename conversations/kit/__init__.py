"""What every flow stands on: the session, typed buttons, the durable conversation state, the
role checks, text and sending helpers, shared renderings, and the dispatcher."""
