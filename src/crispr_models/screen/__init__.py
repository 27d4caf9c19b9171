"""A real screen: its files, the read-count model, the genome-wide fit,
what the fit says, the field's tools and the scores against reference genes.
"""
