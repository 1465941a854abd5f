namespace poolwatch {}
