"""Preprocessing layers: image resizing, rescaling, feature normalization, augmentation."""
