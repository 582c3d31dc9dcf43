"""What the Secretariat's flows share: their menu, Member lookup, recipients."""
