"""keeping projects current without a click"""
