"""The command line: one argparse tree (``burn …``) and the contract commands."""
