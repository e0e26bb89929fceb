"""Warta: news articles to an entity-tagged Elasticsearch index."""
