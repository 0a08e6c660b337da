"""The fixed vocabularies of the bank: categories, difficulties and the topic taxonomy."""

from enum import StrEnum


class Category(StrEnum):
    """The five ways interviewers assess ML candidates."""

    CONCEPT = "concept"
    CODING = "coding"
    SCENARIO = "scenario"
    PROJECT = "project"
    BEHAVIORAL = "behavioral"


class Difficulty(StrEnum):
    """How hard a question is for a candidate at its level."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Role(StrEnum):
    """The jobs a question prepares for; a question names one or more."""

    DATA_SCIENTIST = "data-scientist"
    ML_ENGINEER = "ml-engineer"
    APPLIED_SCIENTIST = "applied-scientist"
    MLOPS_ENGINEER = "mlops-engineer"
    LLM_ENGINEER = "llm-engineer"


class Level(StrEnum):
    """The seniority a question targets."""

    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"


# About fifty topics, grouped the way interview loops group them. A question has exactly one.
TOPICS: dict[str, str] = {
    # foundations
    "probability-statistics": "Probability and statistics",
    "linear-algebra": "Linear algebra for ML",
    "optimization": "Optimization and gradient descent",
    "bias-variance": "Bias, variance and generalization",
    "regularization": "Overfitting and regularization",
    # classical models
    "linear-regression": "Linear regression",
    "logistic-regression": "Logistic regression",
    "decision-trees": "Decision trees",
    "ensembles": "Bagging, boosting and random forests",
    "svm": "Support vector machines",
    "knn": "Nearest neighbours",
    "naive-bayes": "Naive Bayes",
    "clustering": "Clustering",
    "dimensionality-reduction": "Dimensionality reduction",
    # evaluation and data
    "evaluation-metrics": "Evaluation metrics",
    "calibration": "Probability calibration",
    "cross-validation": "Validation and cross-validation",
    "class-imbalance": "Class imbalance",
    "feature-engineering": "Feature engineering",
    "data-leakage": "Data leakage",
    "missing-data": "Missing and dirty data",
    "hyperparameter-tuning": "Hyperparameter tuning",
    # deep learning
    "neural-networks": "Neural network fundamentals",
    "backpropagation": "Backpropagation",
    "cnn": "Convolutional networks",
    "sequence-models": "RNNs and sequence models",
    "dl-training": "Deep-learning training practice",
    "transformers": "Attention and transformers",
    "embeddings": "Embeddings and representation learning",
    "nlp": "Natural language processing",
    "computer-vision": "Computer vision",
    "llms": "Large language models",
    "rag": "Retrieval and retrieval-augmented generation",
    "llm-evaluation": "Evaluating LLM systems",
    # applied ML
    "recommender-systems": "Recommender systems",
    "search-ranking": "Search and ranking",
    "time-series": "Time series and forecasting",
    "anomaly-detection": "Anomaly detection",
    "ab-testing": "A/B testing and experimentation",
    "causal-inference": "Causal inference",
    "reinforcement-learning": "Reinforcement learning",
    "interpretability": "Model interpretability",
    "fairness": "Fairness and responsible ML",
    "privacy-security": "Privacy and security in ML",
    # production
    "ml-system-design": "ML system design",
    "mlops": "Deployment and MLOps",
    "monitoring-drift": "Monitoring and drift",
    "data-pipelines": "Data pipelines",
    "sql": "SQL",
    "python-data": "Python, NumPy and pandas",
    # people
    "collaboration": "Collaboration and conflict",
    "communication": "Communicating with stakeholders",
    "ownership": "Ownership and delivery",
    "growth": "Feedback, failure and learning",
}


def topic_label(topic: str) -> str:
    """Human name of a topic, falling back to the slug."""
    return TOPICS.get(topic, topic)
