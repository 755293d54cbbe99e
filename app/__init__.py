"""Réinventons: a participation platform for cities."""
