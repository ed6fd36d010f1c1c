"""Feeds: RSS and Atom subscriptions whose new items are saved as articles."""
