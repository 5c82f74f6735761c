"""Provisioning and running Asterisk instances: the root, the rendered config, the process."""
from .instance import Instance, InstanceSpec, Trunk
from .root import AsteriskRuntime, AsteriskUnavailable, find, setup
from .site import Site

__all__ = ["AsteriskRuntime", "AsteriskUnavailable", "Instance", "InstanceSpec", "Site", "Trunk",
           "find", "setup"]
