"""ImageStudio: a desktop image studio driven by GAN/VAE models trained by this project."""

__version__ = "0.1.0"
