#!/usr/bin/python3
# Parses a Prometheus text exposition (version 0.0.4) from stdin with the
# prometheus_client library's own parser (Debian's python3-prometheus-client)
# and prints one line per sample: "name{label="value",...} value", labels
# sorted, then "family NAME TYPE" for each family. Exits 1 with the parser's
# error when it refuses the text.
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
try:
    families = list(text_string_to_metric_families(text))
except Exception as e:  # the parser raises ValueError and others
    print("parse error: %s" % e)
    sys.exit(1)

for f in families:
    print("family %s %s %s" % (f.name, f.type, "help" if f.documentation else "nohelp"))
    for s in f.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, float(s.value)))
