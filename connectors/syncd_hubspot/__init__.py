"""HubSpot connector for syncd."""
