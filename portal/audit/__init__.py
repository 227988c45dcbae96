"""The audit log of actions taken on someone else's behalf, written in the transaction of the action."""
