"""Sponsors fund seats at organizations through Stripe subscriptions or manual records."""
