"""Keras functional models. A model file holds a model builder and nothing about files
or flags."""
