"""Token Router's instances: model-serving machines, their processing units and software."""
