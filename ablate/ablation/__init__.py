"""Ablation studies: designs, statistics, tables and figures."""
