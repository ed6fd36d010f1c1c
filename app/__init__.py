"""Givefirst: a give-first helping recommender service."""
