"""Connected accounts for payees (sellers and brokers) and their onboarding."""
