"""What the relay tells operators: domain events, the node directory behind
MonitoringService, Prometheus metrics and the per-job log line."""
