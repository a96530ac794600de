"""The blocking client: IonQ, every AsyncIonQ method as a blocking call."""

from .client import IonQ

__all__ = ["IonQ"]
