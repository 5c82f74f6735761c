"""The dialer: turns attempts into Originates and AMI events back into settled attempts."""
