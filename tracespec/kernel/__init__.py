"""What the target kernel can do: feature profiles by version, and the running kernel's own facts."""

from tracespec.kernel.profile import (FEATURES, MIN_VERSION, KernelProfile, find_tracefs,
                                      profile_for_version, running_profile)

__all__ = ["FEATURES", "MIN_VERSION", "KernelProfile", "find_tracefs", "profile_for_version",
           "running_profile"]
