"""A policy that makes the emergency answer the first answer of the turn.

Rasa's RulePolicy lets an active form run before any rule ("a loop has priority
over any other rule"), so a rule alone cannot guarantee that an urgent message
in the middle of the visitor-group form is answered with 110 first. This
policy can: when the latest user message has the `emergency` intent (from the
classifier or from the urgency detector) it predicts `utter_emergency` as a
"no user" prediction with the highest priority, which overrules a form's happy
path. Right after that, if a form was active, it predicts the action that
pauses the form and offers to continue or drop it.
"""

from __future__ import annotations

from typing import Any

from rasa.core.constants import POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

# Above RulePolicy (6): ties with a form's happy path are broken by priority.
EMERGENCY_POLICY_PRIORITY = 7


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class EmergencyPolicy(Policy):
    """Predicts `utter_emergency` first whenever the user's message is urgent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            POLICY_PRIORITY: EMERGENCY_POLICY_PRIORITY,
            "emergency_intent": "emergency",
            "emergency_action": "utter_emergency",
            "resume_action": "action_offer_resume",
        }

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource

    def next_action(self, tracker: DialogueStateTracker) -> str | None:
        """The action this policy insists on, or None to leave it to the others."""
        latest = tracker.latest_action_name
        if latest == ACTION_LISTEN_NAME and tracker.latest_message is not None:
            intent = (tracker.latest_message.intent or {}).get("name")
            if intent == self.config["emergency_intent"] and tracker.events:
                return self.config["emergency_action"]
        if latest == self.config["emergency_action"] and tracker.active_loop_name:
            return self.config["resume_action"]
        return None

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)
