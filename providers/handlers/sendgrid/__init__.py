"""SendGrid's handlers: subusers, their credits, and domains authenticated on their behalf."""
