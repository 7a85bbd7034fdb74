"""The data gateway (数据网关): authorize -> fetch -> mask -> audit -> respond, with quotas."""
